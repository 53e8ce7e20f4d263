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

"""Sphinx configuration of the release notes (tox -e releasenotes)."""

extensions = [
    'reno.sphinxext',
]

project = 'Glance Release Notes'
copyright = 'Glance contributors'
author = 'Glance contributors'

# Release notes are not tied to one version of the package.
version = ''
release = ''

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'sphinx'
language = 'en'

html_theme = 'alabaster'
html_static_path = []
html_title = 'Glance Release Notes'
