"""Checking image content against its declared disk_format.

One checker serves uploads and imports. It feeds each chunk on its way to
the store to oslo.utils' format inspectors, so nothing is read twice, and
at the end says whether the content matches the declared format, what
its virtual size is, and whether it is safe (no qcow2 backing or data
file, no hidden second format).
"""

from oslo_utils.imageutils import format_inspector

from glance.common import exception

# Declared formats that are not content-checked (the reference does not
# check them either, and clients upload arbitrary bytes as these).
UNCHECKED = frozenset(('ami', 'ari', 'aki', 'ploop', 'raw'))


class FormatMismatch(exception.UnsupportedMediaType):
    pass


class UnsafeImage(exception.BadRequest):
    pass


class FormatChecker:
    """Feed it every chunk, then call finish()."""

    def __init__(self, disk_format, enabled=True):
        self.disk_format = disk_format
        self.enabled = enabled
        self.size = 0
        self._inspectors = []
        if enabled:
            self._inspectors = [cls() for cls in
                                format_inspector.ALL_FORMATS.values()]
        self._failed = set()

    def feed(self, chunk):
        self.size += len(chunk)
        for inspector in self._inspectors:
            if inspector in self._failed:
                continue
            try:
                inspector.eat_chunk(chunk)
            except Exception:
                # A parse error means "not this format"; it must never
                # break the stream.
                self._failed.add(inspector)

    def _matches(self):
        live = [i for i in self._inspectors if i not in self._failed]
        for inspector in live:
            inspector.finish()
        found = [i for i in live if i.NAME != 'raw' and i.format_match]
        if not found:
            found = [i for i in live if i.NAME == 'raw']
        return found

    def finish(self):
        """(detected format name, virtual size); raises on a mismatch."""
        raw_size = self.size if self.disk_format == 'raw' else None
        if not self.enabled:
            return None, raw_size
        found = self._matches()
        names = [str(i) for i in found]
        declared = self.disk_format
        if declared in names and declared != 'raw':
            inspector = found[names.index(declared)]
            self._safety_check(inspector)
            return declared, inspector.virtual_size or None
        if declared in UNCHECKED or \
                declared not in format_inspector.ALL_FORMATS:
            # raw takes any content, as the reference's does.
            return (names[0] if names else None), raw_size
        raise FormatMismatch('Image disk_format %s does not match stream '
                             'data %s' % (declared, ','.join(names) or 'raw'))

    @staticmethod
    def _safety_check(inspector):
        try:
            inspector.safety_check()
        except format_inspector.SafetyCheckFailed as e:
            raise UnsafeImage('Image data of format %s failed safety '
                              'checks: %s' % (inspector.NAME, e))
        except format_inspector.ImageFormatError as e:
            raise UnsafeImage('Image data of format %s cannot be '
                              'verified: %s' % (inspector.NAME, e))
