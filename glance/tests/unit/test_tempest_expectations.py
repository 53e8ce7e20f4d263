"""The verdict on a Tempest run against the expected-failure list."""

import pytest

from glance.tests.functional import tempest_expectations as te

CACHE_TEST = ('tempest.api.image.v2.admin.test_image_caching.'
              'ImageCachingTest.test_image_caching_cycle[id-4bf6adba]')
NS_TEST = ('tempest.api.image.v2.admin.test_images_metadefs_namespaces.'
           'MetadataNamespacesTest.test_basic_metadata_definition_'
           'namespaces[id-319b765e]')
IMAGE_TEST = ('tempest.api.image.v2.test_images.BasicOperationsImagesTest.'
              'test_delete_image[id-f848bb94]')

LIST = r"""
# a comment

tempest\.api\.image\.v2\.admin\.test_image_caching\. # cache: not built
tempest\.api\.image\.v2\.admin\.test_images_metadefs # metadefs: not built
"""


def result(test_id, status, reason=''):
    return {'id': test_id, 'status': status, 'reason': reason}


def test_parse_skips_comments_and_keeps_line_numbers():
    entries = te.parse(LIST)
    assert [(e.line, e.reason) for e in entries] == [
        (4, 'cache: not built'), (5, 'metadefs: not built')]


@pytest.mark.parametrize('text', [
    'tempest\\.api\\.image\\.foo',           # no reason
    'tempest\\.api\\.image\\.foo # ',        # empty reason
    'tempest\\.api\\.image\\.(foo # cache: unbalanced',
])
def test_parse_refuses_bad_lines(text):
    with pytest.raises(te.BadExpectations):
        te.parse(text)


def test_listed_failures_are_expected_and_the_run_passes():
    verdict = te.judge([result(CACHE_TEST, 'fail', 'boom'),
                        result(NS_TEST, 'fail'),
                        result(IMAGE_TEST, 'success')], te.parse(LIST))
    assert verdict.ok
    assert verdict.counts['passed'] == 1
    assert verdict.counts['failed'] == 2
    assert [r['id'] for r, _ in verdict.expected_failures] == [CACHE_TEST,
                                                               NS_TEST]
    assert verdict.summary() == (
        'Tempest results: passed 1, failed 2 (expected 2, unexpected 0), '
        'skipped 0; stale list entries 0')


def test_an_unlisted_failure_fails_the_run_and_is_reported():
    verdict = te.judge([result(CACHE_TEST, 'fail'), result(NS_TEST, 'fail'),
                        result(IMAGE_TEST, 'fail', 'Traceback\n  '
                               'AssertionError: 409 != 403')],
                       te.parse(LIST))
    assert not verdict.ok
    assert [r['id'] for r in verdict.unexpected_failures] == [IMAGE_TEST]
    report = verdict.report()
    assert 'UNEXPECTED FAILURES' in report
    assert IMAGE_TEST in report
    assert 'AssertionError: 409 != 403' in report


def test_an_entry_that_no_longer_fails_is_stale():
    verdict = te.judge([result(CACHE_TEST, 'success'),
                        result(NS_TEST, 'fail')], te.parse(LIST))
    assert not verdict.ok
    assert [e.line for e, _ in verdict.stale] == [4]
    assert 'unexpectedly passing: remove them' in verdict.report()
    assert '1 success' in verdict.report()


def test_an_entry_that_matches_nothing_is_stale():
    verdict = te.judge([result(NS_TEST, 'fail')], te.parse(LIST))
    assert not verdict.ok
    assert 'matches no test' in verdict.report()


def test_an_entry_with_some_failures_is_not_stale():
    # Some tests of an unbuilt API pass already (a 404 where one is
    # expected); the entry stands while any of its tests fails.
    verdict = te.judge([result(CACHE_TEST, 'fail'),
                        result(CACHE_TEST + 'x', 'success'),
                        result(NS_TEST, 'fail')], te.parse(LIST))
    assert verdict.ok


def test_class_level_errors_match_by_their_class():
    cls = 'tempest.api.image.v2.admin.test_image_caching.ImageCachingTest'
    verdict = te.judge([result('setUpClass (%s)' % cls, 'fail'),
                        result(NS_TEST, 'fail')], te.parse(LIST))
    assert verdict.ok
    other = 'tempest.api.image.v2.test_images.ImportImagesTest'
    verdict = te.judge([result('setUpClass (%s)' % other, 'fail'),
                        result(CACHE_TEST, 'fail'),
                        result(NS_TEST, 'fail')], te.parse(LIST))
    assert [r['id'] for r in verdict.unexpected_failures] == [
        'setUpClass (%s)' % other]


def test_skips_are_counted_and_never_fail_the_run():
    verdict = te.judge([result(IMAGE_TEST, 'skip', 'not configured'),
                        result(CACHE_TEST, 'fail'), result(NS_TEST, 'fail')],
                       te.parse(LIST))
    assert verdict.ok
    assert verdict.counts['skipped'] == 1


def test_a_test_that_never_ended_is_a_failure():
    verdict = te.judge([result(IMAGE_TEST, 'inprogress'),
                        result(CACHE_TEST, 'fail'), result(NS_TEST, 'fail')],
                       te.parse(LIST))
    assert [r['id'] for r in verdict.unexpected_failures] == [IMAGE_TEST]


def test_the_served_qcow2_passes_the_format_inspector(tmp_path):
    # web-download of Tempest's http_qcow2_image goes through the format
    # checks (require_image_format_match): the hand-made file must pass.
    from oslo_utils.imageutils import format_inspector

    from glance.tests.functional import tempest_fixture

    path = tmp_path / 'disk.qcow2'
    path.write_bytes(tempest_fixture.qcow2_image(virtual_size=3 * 2 ** 20))
    inspector = format_inspector.detect_file_format(str(path))
    assert str(inspector) == 'qcow2'
    assert inspector.virtual_size == 3 * 2 ** 20
    inspector.safety_check()   # raises on a backing file, data file, ...
