"""Request and response plumbing shared by every API resource.

A Resource turns one routed request into a controller call: it parses the
body, calls the action, and writes the result; it is also the one place
where errors become HTTP responses, so no request ends in a 500 because a
layer raised one of our errors.
"""

import json
import logging
import urllib.parse

import webob
import webob.exc

from glance.common import exception

LOG = logging.getLogger(__name__)

JSON = 'application/json'
MAX_JSON_BODY = 1024 * 1024
MAX_JSON_DEPTH = 64


def _wants_json(request):
    accept = request.headers.get('Accept', '')
    if not accept:
        return False
    best = request.accept.best_match(['text/html', 'text/plain', JSON])
    return best == JSON


def error_response(request, error):
    """A response for a GlanceError: JSON if the client asks, else text."""
    message = error.message
    status = '%d %s' % (error.code, error.title)
    if request is not None and _wants_json(request):
        body = json.dumps({'message': message, 'code': status,
                           'title': error.title}).encode()
        content_type = JSON
    else:
        body = ('%s\n\n%s\n' % (status, message)).encode()
        content_type = 'text/plain'
    response = webob.Response(body=body, status=status,
                              content_type=content_type, charset='UTF-8')
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


# JSON numbers become Python ints of any size; no column or option of the
# service holds more than a signed 64-bit value.
MIN_JSON_INT = -2 ** 63
MAX_JSON_INT = 2 ** 63 - 1


def _check_string(text):
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise exception.BadRequest('JSON strings must not hold lone UTF-16 '
                                   'surrogates.')


def _check_value(value, strings, depth=0):
    """Refuse what the service cannot store: deep nesting, integers
    beyond 64 bits and (when asked) lone surrogates in strings or keys."""
    if depth > MAX_JSON_DEPTH:
        raise exception.BadRequest('JSON body is nested too deeply.')
    if isinstance(value, dict):
        for key, item in value.items():
            if strings:
                _check_string(key)
            _check_value(item, strings, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, strings, depth + 1)
    elif isinstance(value, str):
        if strings:
            _check_string(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not MIN_JSON_INT <= value <= MAX_JSON_INT:
            raise exception.BadRequest('Integer %d is out of range (at '
                                       'most 64 bits).' % value)


def parse_json(raw):
    """Parse a JSON request body, refusing what would hurt the server."""
    if len(raw) > MAX_JSON_BODY:
        raise exception.LimitExceeded('JSON body is larger than %d bytes.'
                                      % MAX_JSON_BODY)
    try:
        text = raw.decode('utf-8')
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise exception.BadRequest('Malformed JSON in request body.')
    # A lone surrogate can only come from a backslash-u escape (UTF-8
    # cannot carry one): without any, the strings need no look.
    _check_value(value, strings='\\u' in text)
    return value


def read_json_body(request, required=True):
    """The JSON body of a request (read up to the size limit)."""
    length = request.content_length
    if length is not None and length > MAX_JSON_BODY:
        raise exception.LimitExceeded('JSON body is larger than %d bytes.'
                                      % MAX_JSON_BODY)
    raw = request.body_file.read(MAX_JSON_BODY + 1)
    if not raw.strip():
        if required:
            raise exception.BadRequest('Body expected in request.')
        return None
    return parse_json(raw)


def refuse_body(request):
    """Requests that take no body must not send one."""
    if request.content_length or request.headers.get('Transfer-Encoding'):
        raw = request.body_file.read(1)
        if raw:
            raise exception.BadRequest('This request takes no body.')


def json_response(value, status=200, headers=None):
    body = json.dumps(value, separators=(',', ':')).encode()
    response = webob.Response(body=body, status=status,
                              content_type=JSON, charset='UTF-8')
    if headers:
        response.headers.update(headers)
    return response


def no_content(headers=None):
    response = webob.Response(status=204)
    # webob gives a 204 a Content-Type by default; a 204 has no body.
    del response.content_type
    if headers:
        response.headers.update(headers)
    return response


def check_query_string(environ):
    """400 for a query string whose percent-decoded bytes are not UTF-8
    (webob would fail on them with UnicodeDecodeError)."""
    query = environ.get('QUERY_STRING')
    if not query:
        return
    try:
        # PEP 3333: the raw bytes, decoded as latin-1.
        raw = query.encode('latin-1')
    except UnicodeEncodeError:
        return
    try:
        urllib.parse.unquote_to_bytes(raw).decode('utf-8')
    except UnicodeDecodeError:
        raise exception.BadRequest('The query string is not valid UTF-8.')


class Resource:
    """A WSGI app calling one controller action per routed request.

    The action receives the webob request and the URL arguments and
    returns a webob response (the handlers are short functions that
    build their answer with json_response / no_content).
    """

    def __init__(self, action):
        self.action = action

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        args = environ['wsgiorg.routing_args'][1]
        try:
            check_query_string(environ)
            response = self.action(request, **args)
        except exception.GlanceError as e:
            response = error_response(request, e)
        except webob.exc.HTTPException as e:
            response = e
        except Exception:
            LOG.exception('Unexpected error in %s %s', request.method,
                          request.path)
            response = error_response(request, exception.GlanceError())
        return response(environ, start_response)
