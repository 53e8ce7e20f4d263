# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the Glance documentation (tox -e docs)."""

from importlib import metadata

extensions = [
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
]

project = 'Glance'
copyright = 'Glance contributors'
author = 'Glance contributors'

try:
    release = metadata.version('glance')
except metadata.PackageNotFoundError:
    release = ''
version = '.'.join(release.split('.')[:2])

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'sphinx'
language = 'en'

html_theme = 'alabaster'
html_theme_options = {
    'description': 'OpenStack Image service',
}
html_static_path = []
html_title = 'Glance documentation'
