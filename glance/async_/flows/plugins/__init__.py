"""Import plugins bundled with the service.

Each module is an entry point of the glance.image_import.plugins
namespace and has get_flow(**kwargs) returning a taskflow flow; see
doc/source/admin/import.rst for what the keyword arguments are.
"""
