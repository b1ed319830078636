"""The readers' site: views, feeds, sitemaps, URLs, forms, the page cache and the source download.

Views stay thin: they read through `papers.selectors` and render. Nothing here imports the admin;
nothing outside this package imports it, except the project's URLs and the receivers (page cache).
"""
