"""glance-scrubber: remove the data of images deleted with delayed_delete.

With [DEFAULT] delayed_delete = true, DELETE /v2/images/{id} leaves the
image pending_delete with its data in place; this command removes the data
of images deleted more than scrub_time seconds ago and marks them deleted.
It runs once, or with --daemon every wakeup_time seconds. Several
scrubbers (one per node) may run at once: each image is finished once.
"""

import concurrent.futures
import datetime
import sys
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.db import images as db_images
from glance.domain import image as domain
from glance.i18n import _
from glance.store import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

scrubber_opts = [
    cfg.IntOpt('wakeup_time', default=300, min=1,
               help=_('Seconds the scrubber daemon sleeps between runs.')),
    cfg.IntOpt('scrub_pool_size', default=1, min=1,
               help=_('Images the scrubber works on at once.')),
]
cli_opts = [
    cfg.BoolOpt('daemon', short='D', default=False,
                help=_('Run continuously instead of once.')),
]


def scrub_image(image):
    for location in image.locations:
        backends.delete(location['url'], location['metadata'].get('store'))
    if db_images.finish_scrub(image.id):
        LOG.info('Scrubbed image %s', image.id)


def scrub_once():
    """Scrub every due image; return how many were handled."""
    due = domain.utcnow() - datetime.timedelta(seconds=CONF.scrub_time)
    done = 0
    with concurrent.futures.ThreadPoolExecutor(CONF.scrub_pool_size) as pool:
        while True:
            batch = db_images.pending_delete(due)
            if not batch:
                return done
            for future in [pool.submit(scrub_image, image)
                           for image in batch]:
                try:
                    future.result()
                except Exception:
                    LOG.exception('Scrubbing an image failed')
            done += len(batch)
            if len(batch) < 100:
                return done


def main(argv=None):
    CONF.register_opts(scrubber_opts)
    CONF.register_cli_opts(cli_opts)
    config.parse_args(sys.argv[1:] if argv is None else argv,
                      prog='glance-scrubber')
    logging.setup(CONF, 'glance')
    backends.setup(CONF)
    while True:
        count = scrub_once()
        LOG.info('Scrubber run finished: %d images', count)
        if not CONF.daemon:
            return 0
        time.sleep(CONF.wakeup_time)


if __name__ == '__main__':
    sys.exit(main())
