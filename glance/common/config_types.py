"""List and dict options that read every spelling an operator may use.

The reference service declares its list options with ``bounds=True`` and
quoted string items, so its documented form is ``[a, b]`` or
``['a', 'b']``; other list options it declares plain, where ``a, b`` is
the form. Operators' files carry both. oslo.config's own types take one
form each (a bounded list refuses ``a, b``, a plain one reads ``[a`` and
``b]`` as items), so ours take all of them:

    ``[a, b]``, ``['a', "b"]``, ``a, b``, ``'a', 'b'``, ``[]``, empty

and give the same list for each. Dicts likewise take ``{k: v}`` or
``k: v``, with or without quotes around keys and values. A value the
reference reads is read here to the same list or dict.
"""

from oslo_config import cfg
from oslo_config import types


def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '\'"':
        return text[1:-1]
    return text


def _restore_outer_quotes(text):
    """Undo the config parser's stripping of a value's outer quotes.

    The parser reads ``x = 'a', 'b'`` as ``a', 'b``: it takes the first
    and last characters for quotes around the whole value.
    """
    positions = [text.find(q) for q in '\'"' if q in text]
    if not positions or text[:1] in ('\'', '"'):
        return text
    first = min(positions)
    quote = text[first]
    if first > 0 and text[first + 1:].lstrip()[:1] in (',', ':'):
        return quote + text + quote
    return text


def _has_bounds(text, opening, closing):
    return text.startswith(opening) and text.endswith(closing)


class _Unquoted(types.ConfigType):
    """An item type that first drops the quotes around the item."""

    def __init__(self, item_type):
        super().__init__(type_name=item_type.type_name)
        self.item_type = item_type

    def __call__(self, value):
        if isinstance(value, str):
            value = _unquote(value)
        return self.item_type(value)

    def __repr__(self):
        return repr(self.item_type)

    def __eq__(self, other):
        return (isinstance(other, _Unquoted) and
                self.item_type == other.item_type)

    def _formatter(self, value):
        return self.item_type._formatter(value)


class List(types.List):
    """A list, bracketed or not, whose items may be quoted."""

    def __init__(self, item_type=None, **kwargs):
        if item_type is None:
            item_type = types.String(quotes=True)
        elif not isinstance(item_type, types.String):
            # Quotes around a number or an address are dropped as well.
            item_type = _Unquoted(item_type)
        super().__init__(item_type=item_type, **kwargs)
        self.bounded = types.List(item_type=item_type, bounds=True)

    def __call__(self, value):
        if isinstance(value, str):
            text = value.strip().rstrip(',').strip()
            if _has_bounds(text, '[', ']'):
                if not text[1:-1].strip():
                    return []
                return self.bounded(text)
            value = _restore_outer_quotes(text)
        return super().__call__(value)


class Dict(types.Dict):
    """A dict, in braces or not, whose keys and values may be quoted."""

    def __init__(self, value_type=None, **kwargs):
        if value_type is None:
            value_type = types.String(quotes=True)
        super().__init__(value_type=value_type, **kwargs)

    def __call__(self, value):
        if isinstance(value, dict):
            return value
        text = value.strip()
        if _has_bounds(text, '{', '}'):
            text = text[1:-1]
        else:
            text = _restore_outer_quotes(text)
        return {_unquote(key): item
                for key, item in super().__call__(text).items()}


class ListOpt(cfg.ListOpt):
    """cfg.ListOpt whose value may be written in any of the forms above."""

    def __init__(self, name, item_type=None, **kwargs):
        cfg.Opt.__init__(self, name, type=List(item_type=item_type),
                         **kwargs)


class DictOpt(cfg.DictOpt):
    """cfg.DictOpt whose value may be written with or without braces."""

    def __init__(self, name, value_type=None, **kwargs):
        cfg.Opt.__init__(self, name, type=Dict(value_type=value_type),
                         **kwargs)
