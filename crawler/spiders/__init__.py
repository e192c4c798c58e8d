"""NormWatch spiders, one module per source (`scrapy list` shows them)."""
