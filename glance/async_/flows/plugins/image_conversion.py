"""image_conversion: convert imported data to [image_conversion] output_format.

The staged data is first inspected by our format inspector: it must be
of the declared disk_format and pass the safety checks (no qcow2 backing
or external data file, no dangerous vmdk extents); only then is
``qemu-img`` (Debian's qemu-utils) run on it, always with the format
given explicitly and under resource limits. The converted file replaces
the staged one, and the image's disk_format and virtual_size become
those of the output; if the import fails later, the revert gives the
image its old disk_format back.

Formats converted: raw, qcow2, vmdk, vhd, vhdx, vdi. Others (iso, ami,
...) and images already in the output format are left alone.
"""

import json
import os

from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units
from taskflow.patterns import linear_flow
from taskflow import task

from glance.common import exception
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# glance disk_format -> qemu-img format name
QEMU_FORMATS = {'raw': 'raw', 'qcow2': 'qcow2', 'vmdk': 'vmdk',
                'vhd': 'vpc', 'vhdx': 'vhdx', 'vdi': 'vdi'}
INFO_LIMITS = processutils.ProcessLimits(cpu_time=30,
                                         address_space=1 * units.Gi)


class ConversionError(exception.GlanceError):
    code = 400
    title = 'Bad Request'


def qemu_img_info(path, fmt):
    try:
        out, _err = processutils.execute(
            'qemu-img', 'info', '-f', fmt, '--output=json', path,
            prlimit=INFO_LIMITS, env_variables={'LC_ALL': 'C'})
    except processutils.ProcessExecutionError as e:
        raise ConversionError('qemu-img cannot read the image data: %s'
                              % (e.stderr or e).strip())
    except OSError as e:
        raise ConversionError('qemu-img cannot be run: %s' % e)
    return json.loads(out)


def _check_info(info):
    if info.get('backing-filename') or info.get('full-backing-filename'):
        raise ConversionError('The image has a backing file; refused.')
    specific = (info.get('format-specific') or {}).get('data') or {}
    if specific.get('data-file'):
        raise ConversionError('The image has an external data file; '
                              'refused.')


class _ConvertImage(task.Task):
    def __init__(self, task_id, image_id, image_repo, staging_path, state,
                 progress):
        super().__init__(name='ConvertImage-%s' % task_id)
        self.image_id = image_id
        self.image_repo = image_repo
        self.path = staging_path
        self.state = state
        self.progress = progress
        self.old_format = None

    def execute(self):
        target = CONF.image_conversion.output_format
        image = self.image_repo.get(self.image_id)
        source = image.disk_format
        if source == target:
            LOG.debug('Image %s is %s already', self.image_id, target)
            return
        if source not in QEMU_FORMATS:
            LOG.info('Not converting image %s: %s images are left as they '
                     'are', self.image_id, source)
            return
        # Our inspector first: the declared format, and safe.
        if self.progress is not None:
            progress = self.progress('Inspected before conversion',
                                     os.path.getsize(self.path))
        else:
            progress = None
        inspected = staging.load_info(self.image_id)
        if inspected is None or inspected.disk_format != source:
            inspected = staging.scan(self.image_id, source,
                                     progress=progress)
        inspected.check_format()
        fmt = QEMU_FORMATS[source]
        _check_info(qemu_img_info(self.path, fmt))
        output = self.path + '.converted'
        if self.state is not None:
            self.state.progress('Converting %s to %s' % (source, target))(0)
        try:
            processutils.execute(
                'qemu-img', 'convert', '-f', fmt, '-O', target,
                self.path, output, env_variables={'LC_ALL': 'C'})
        except processutils.ProcessExecutionError as e:
            _remove(output)
            raise ConversionError('Conversion of the image from %s to %s '
                                  'failed: %s' % (source, target,
                                                  (e.stderr or e).strip()))
        except BaseException:
            _remove(output)
            raise
        converted = qemu_img_info(output, target)
        os.replace(output, self.path)
        image = self.image_repo.get(self.image_id)
        self.old_format = image.disk_format
        if self.state is not None:
            self.state.remember(image, 'disk_format', 'virtual_size')
        image.disk_format = target
        image.virtual_size = converted.get('virtual-size')
        self.image_repo.save(image)
        LOG.info('Converted image %s from %s to %s', self.image_id, source,
                 target)

    def revert(self, *args, **kwargs):
        _remove(self.path + '.converted')
        if self.old_format is None or self.state is not None:
            # The import's own revert restores what it remembered.
            return
        try:
            image = self.image_repo.get(self.image_id)
            image.disk_format = self.old_format
            self.image_repo.save(image)
        except Exception:
            LOG.exception('Could not restore the disk_format of image %s',
                          self.image_id)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def get_flow(**kwargs):
    return linear_flow.Flow('image_conversion').add(_ConvertImage(
        kwargs.get('task_id'), kwargs.get('image_id'),
        kwargs.get('image_repo'), kwargs.get('staging_path'),
        kwargs.get('import_state'), kwargs.get('progress')))
