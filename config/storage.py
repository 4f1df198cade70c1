"""Static files in production: WhiteNoise's hashed and compressed storage, tolerant of third parties' dead links.

viewflow's CSS points at Roboto fonts it does not ship; Django's manifest storage would stop `collectstatic` there.
Such a reference keeps its URL as written (the browser falls back to another font, as it does today), and is
logged; every file that exists is still hashed and rewritten.
"""

import logging
import re

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)

MISSING_FILE = re.compile(r"^The file '(.+)' could not be found")


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    # A template naming a static file that was never collected is still an error (manifest_strict stays True):
    # only references inside collected CSS and JS files are tolerated.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.files_with_missing_references = set()

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)

        def convert_or_keep(matchobj):
            try:
                return convert(matchobj)
            except ValueError as exc:
                missing = MISSING_FILE.match(str(exc))
                if not missing:
                    raise
                if name not in self.files_with_missing_references:  # once per file, not per reference and pass
                    self.files_with_missing_references.add(name)
                    logger.warning(
                        "%s refers to files that do not exist (first: %s); such references are left as written",
                        name,
                        missing[1],
                    )
                return matchobj["matched"]

        return convert_or_keep
