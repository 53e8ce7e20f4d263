"""test_mark: marks the imported image."""

from taskflow.patterns import linear_flow
from taskflow import task


class _Mark(task.Task):
    def __init__(self, image_repo, image_id, kwargs):
        super().__init__(name='TestMark')
        self.image_repo = image_repo
        self.image_id = image_id
        self.kwargs = sorted(kwargs)

    def execute(self, file_path):
        # file_path comes from the engine's store, as in the reference.
        image = self.image_repo.get(self.image_id)
        image.extra_properties['test_plugin'] = 'ran'
        image.extra_properties['test_plugin_file'] = file_path.rsplit(
            '/', 1)[-1]
        self.image_repo.save(image)


def get_flow(**kwargs):
    return linear_flow.Flow('test_mark').add(
        _Mark(kwargs['image_repo'], kwargs['image_id'], kwargs))
