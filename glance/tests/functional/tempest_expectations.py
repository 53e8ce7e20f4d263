"""The expected-failure list of the Tempest run, and the verdict on a run.

The list (tempest_expected_failures.txt beside this file) holds one entry
a line:

    <regular expression>  # <reason>

The expression is matched (re.match, so from the start) against each test
id; a class-level error (``setUpClass (tempest.api...SomeTest)``) is
matched as the class path inside the parentheses. Blank lines and lines
starting with ``#`` are comments. Every entry must give a reason; one for
something other than an API not built yet starts its reason with
``TODO(lead)``.

A run passes when
* every failed test matches an entry (an expected failure), and
* every entry matches at least one failed test: an entry whose tests all
  pass now (or no longer exist, or are skipped) is stale and must be
  removed, so the list only ever shrinks as the missing APIs land.
"""

import collections
import dataclasses
import re

# A test still in progress when the stream ends lost its worker.
FAILED = ('fail', 'uxsuccess', 'inprogress')
PASSED = ('success', 'xfail')
SKIPPED = ('skip',)

_CLASS_LEVEL = re.compile(r'^(?:setUpClass|tearDownClass) \((.+)\)$')


class BadExpectations(ValueError):
    """The expected-failure list cannot be read."""


@dataclasses.dataclass(frozen=True)
class Expectation:
    pattern: str
    reason: str
    line: int

    def matches(self, test_id):
        return re.match(self.pattern, subject(test_id)) is not None


def subject(test_id):
    """What an entry is matched against: the test id, or the class of a
    class-level fixture error."""
    match = _CLASS_LEVEL.match(test_id)
    return match.group(1) if match else test_id


def parse(text):
    """The entries of an expected-failure list (its text)."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        pattern, sep, reason = line.partition(' # ')
        pattern, reason = pattern.strip(), reason.strip()
        if not sep or not reason:
            raise BadExpectations('line %d has no " # reason": %s'
                                  % (number, raw))
        try:
            re.compile(pattern)
        except re.error as e:
            raise BadExpectations('line %d: bad expression %r: %s'
                                  % (number, pattern, e))
        entries.append(Expectation(pattern, reason, number))
    return entries


def load(path):
    with open(path) as f:
        return parse(f.read())


@dataclasses.dataclass
class Verdict:
    counts: collections.Counter
    unexpected_failures: list      # results that no entry covers
    expected_failures: list        # (result, entry)
    stale: list                    # (entry, [results it matched])

    @property
    def ok(self):
        return not self.unexpected_failures and not self.stale

    def summary(self):
        # Not in pytest's "N passed, N failed" form: a CI that reads the
        # closing line of a run must not take this one for it.
        c = self.counts
        return ('Tempest results: passed %d, failed %d (expected %d, '
                'unexpected %d), skipped %d; stale list entries %d'
                % (c['passed'], c['failed'], len(self.expected_failures),
                   len(self.unexpected_failures), c['skipped'],
                   len(self.stale)))

    def report(self):
        """A human-readable account of what makes the run fail."""
        lines = [self.summary()]
        if self.unexpected_failures:
            lines.append('')
            lines.append('UNEXPECTED FAILURES (not in the expected-failure '
                         'list):')
            for result in self.unexpected_failures:
                lines.append('  %s' % result['id'])
                for text in result.get('reason', '').splitlines()[-6:]:
                    lines.append('      %s' % text)
        if self.stale:
            lines.append('')
            lines.append('STALE ENTRIES (unexpectedly passing: remove them '
                         'from the list):')
            for entry, matched in self.stale:
                statuses = collections.Counter(r['status'] for r in matched)
                lines.append('  line %d: %s  (%s)'
                             % (entry.line, entry.pattern,
                                ', '.join('%d %s' % (n, s) for s, n in
                                          sorted(statuses.items()))
                                or 'matches no test'))
        return '\n'.join(lines)


def judge(results, entries):
    """The verdict on a run's results (dicts with id, status, reason)."""
    counts = collections.Counter()
    unexpected, expected = [], []
    matched = {entry: [] for entry in entries}
    failed_entries = set()
    for result in results:
        status = result['status']
        if status in FAILED:
            counts['failed'] += 1
        elif status in SKIPPED:
            counts['skipped'] += 1
        elif status in PASSED:
            counts['passed'] += 1
        else:
            counts[status] += 1
        covering = [e for e in entries if e.matches(result['id'])]
        for entry in covering:
            matched[entry].append(result)
        if status in FAILED:
            if covering:
                expected.append((result, covering[0]))
                failed_entries.update(covering)
            else:
                unexpected.append(result)
    stale = [(entry, matched[entry]) for entry in entries
             if entry not in failed_entries]
    return Verdict(counts, unexpected, expected, stale)
