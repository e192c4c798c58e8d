"""Collection: Scrapy spiders, the manifest ingester and the bundled sample site."""
