"""Where papers come from: arXiv's API and OAI-PMH (licences), the polite turn that every request
to arXiv takes, and PDF download and extraction.

Plain functions over HTTP and files. They may import `papers.models` for data types; the pipeline
and the admin's dry run call them. Nothing here imports views, the admin or tasks.
"""
