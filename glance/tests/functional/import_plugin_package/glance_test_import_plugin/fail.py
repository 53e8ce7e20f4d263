"""test_fail: fails on request (the image property test_fail=yes)."""

from taskflow.patterns import linear_flow
from taskflow import task


class PluginFailure(Exception):
    pass


class _Fail(task.Task):
    def __init__(self, image_repo, image_id):
        super().__init__(name='TestFail')
        self.image_repo = image_repo
        self.image_id = image_id

    def execute(self):
        image = self.image_repo.get(self.image_id)
        if image.extra_properties.get('test_fail') == 'yes':
            raise PluginFailure('test_fail plugin failed as asked')


def get_flow(**kwargs):
    return linear_flow.Flow('test_fail').add(
        _Fail(kwargs['image_repo'], kwargs['image_id']))
