"""Reads a subunit v2 stream (stdin) and prints one JSON object per test.

Run by the Python of Tempest's virtualenv (it has python-subunit and
testtools; the test environment of this tree need not):

    python tempest_subunit.py < results.subunit > results.jsonl

Each line: {"id": ..., "status": "success" | "fail" | "skip" | ...,
"reason": a skip reason or the tail of the failure's traceback}.
Standalone on purpose: it imports nothing from this tree.
"""

import json
import sys

import subunit
import testtools

DETAIL_CHARS = 3000


def _text(details, name):
    content = details.get(name)
    if content is None:
        return ''
    try:
        return content.as_text()
    except Exception:  # a binary attachment: not worth failing over
        return ''


def _reason(test):
    details = test.get('details') or {}
    if test['status'] == 'skip':
        return _text(details, 'reason').strip()
    if test['status'] in ('fail', 'uxsuccess', 'inprogress'):
        text = _text(details, 'traceback') or ''.join(
            _text(details, name) for name in sorted(details))
        return text[-DETAIL_CHARS:]
    return ''


def main():
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer,
                                              non_subunit_name='stdout')
    tests = []
    summary = testtools.StreamToDict(tests.append)
    summary.startTestRun()
    try:
        stream.run(summary)
    finally:
        summary.stopTestRun()
    for test in tests:
        if test['id'] is None or test['status'] == 'exists':
            continue
        print(json.dumps({'id': test['id'], 'status': test['status'],
                          'reason': _reason(test)}))


if __name__ == '__main__':
    main()
