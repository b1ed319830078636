"""Paper licences from arXiv's OAI-PMH interface (the API's Atom does not carry them).

arXiv lets a site show content from a paper (figures) only when the paper's licence allows it;
see Paper.content_allowed. Requests go through the same polite, deployment-wide turn as the API.
"""

import xml.etree.ElementTree as ET

import requests
from django.conf import settings

from papers.sources.politeness import PoliteSession

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"


class LicenceUnavailable(Exception):
    """OAI-PMH could not be asked, or its answer could not be read."""


def oai_identifier(arxiv_id: str) -> str:
    return f"oai:arXiv.org:{arxiv_id}"


def parse_licence(body: bytes) -> str:
    """The <license> URL of a GetRecord answer; "" when the paper has none (arXiv's default)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise LicenceUnavailable(f"OAI-PMH answer is not XML: {exc}") from exc
    error = root.find(f"{OAI}error")
    if error is not None:
        if error.get("code") == "idDoesNotExist":
            return ""
        raise LicenceUnavailable(f"OAI-PMH error {error.get('code')}: {error.text}")
    licence = root.find(f".//{ARXIV}license")
    return (licence.text or "").strip() if licence is not None else ""


def fetch_licence(arxiv_id: str, session: requests.Session | None = None) -> str:
    session = session or PoliteSession()
    try:
        response = session.get(
            settings.ARXIV_OAI_URL,
            params={
                "verb": "GetRecord",
                "identifier": oai_identifier(arxiv_id),
                "metadataPrefix": "arXiv",
            },
        )
    except requests.RequestException as exc:
        raise LicenceUnavailable(str(exc)) from exc
    if response.status_code != 200:
        raise LicenceUnavailable(f"OAI-PMH answered {response.status_code}")
    return parse_licence(response.content)
