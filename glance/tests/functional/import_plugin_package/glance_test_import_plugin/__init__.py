"""Import plugins of a separate package, for the functional tests.

test_mark sets the property ``test_plugin`` on every imported image and
logs the keyword arguments it was given; test_fail fails the import of
an image whose ``test_fail`` property is "yes", after the other plugins
ran, so that the tests can watch the revert.
"""
