"""Scrapy settings for NormWatch.

Each non-default value names Scrapy's default and why we differ. Settings
prefixed NORMWATCH_ or ending in _BASE_URL are ours.
"""

BOT_NAME = "normwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where documents go (ours). `pipeline.py --db` overrides it.
NORMWATCH_DB = "data/normwatch.db"

# Base URLs of the sources (ours) default to the real sites, declared on each
# spider (`default_base_url`). `<SOURCE>_BASE_URL` settings, e.g. CCDCOE_BASE_URL,
# point a spider elsewhere: the demo and the tests use the sample site on 127.0.0.1.

# Default "Scrapy/VERSION (+https://scrapy.org)": sites should know who we are.
USER_AGENT = "NormWatch/0.1 (research crawler; +https://github.com/normwatch/normwatch)"

# Default False: government and UN sites publish robots.txt; we obey it.
ROBOTSTXT_OBEY = True

# Default 8 per domain: one request at a time per host, politely spaced.
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Default 0: SOURCES.md asks for 2-5 s per host; spiders may raise it.
DOWNLOAD_DELAY = 2
# Default False: back off further when a site slows down.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2

# Default 1 GiB: statements, even long PDFs, stay under 50 MB.
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024
# Default 180 s.
DOWNLOAD_TIMEOUT = 60

# Default 100: Scrapy starts that many asyncio workers for every response's output, and a
# page here yields one or two items into a synchronous SQLite pipeline (bench/crawl.py: +8%).
CONCURRENT_ITEMS = 8

# Default True: the telnet console is a listening port nobody needs here.
TELNETCONSOLE_ENABLED = False

# Default "INFO"; the CLI lowers it unless --verbose.
LOG_LEVEL = "INFO"

# RELIABILITY.md traps fixed in crawler/middlewares.py (numbers: process_response
# runs from high to low, so the encoding fix sees decompressed bodies).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "crawler.middlewares.Cp1252FallbackMiddleware": 580,
}
# Ours: an exception in a callback is recorded for its URL (fetch_errors.reason = parse_error).
SPIDER_MIDDLEWARES = {"crawler.middlewares.ParseErrorMiddleware": 550}

# Ours: the longest Retry-After we wait for; longer means give up and record.
RETRY_AFTER_MAX = 60

# Default False. Conditional requests on recrawl: RFC 2616 policy revalidates with
# ETag / Last-Modified. The CLI puts the cache beside the database.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_DIR = "httpcache"
# Default []: never cache a server error or a rate limit (the default policy caches 503s).
HTTPCACHE_IGNORE_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]

ITEM_PIPELINES = {
    "crawler.pipelines.ResolveStatePipeline": 100,
    "crawler.pipelines.StorePipeline": 900,
}

FEED_EXPORT_ENCODING = "utf-8"
