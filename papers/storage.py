"""The private file storage: PDFs and figure crops, kept out of MEDIA_URL."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages


class PrivateStorage(FileSystemStorage):
    """A file system storage under PRIVATE_MEDIA_ROOT with no public URL.

    The location is read on every use (not cached) so tests can point it elsewhere.
    """

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage():
    """Callable for FileField(storage=...), so migrations do not freeze the location."""
    return storages["private"]
