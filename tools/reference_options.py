"""Write the reference service's option list (names and groups only).

Usage, from the top of this tree, with a checkout of the reference
service (openstack/glance) in REF and its Python dependencies importable:

    python tools/reference_options.py REF \
        > glance/common/data/reference_options.json
    python tools/reference_options.py REF policies \
        > glance/common/data/reference_policies.json

It imports the reference's own ``list_api_opts`` and
``list_image_import_opts`` (the functions its ``glance.api`` and
``glance`` oslo.config namespaces name) and keeps, for each option, its
namespace, group, name, kind and deprecated names: what an operator's
file may say. glance/tests/unit/test_option_inventory.py checks ours
against it.
"""

import json
import sys


def describe(opt):
    return {
        'name': opt.name,
        'kind': type(opt).__name__,
        'deprecated': sorted('%s/%s' % (d.group or 'DEFAULT',
                                        d.name or opt.name)
                             for d in opt.deprecated_opts),
        'deprecated_for_removal': bool(opt.deprecated_for_removal),
    }


def policies():
    """Each policy rule's name and the name of its deprecated rule."""
    from glance import policies as reference_policies
    rows = []
    for rule in reference_policies.list_rules():
        deprecated = getattr(rule, 'deprecated_rule', None)
        rows.append({'name': rule.name,
                     'deprecated': deprecated.name if deprecated else None,
                     'scope_types': getattr(rule, 'scope_types', None)})
    return sorted(rows, key=lambda r: r['name'])


def main(reference_checkout, what='options'):
    sys.path.insert(0, reference_checkout)
    from glance import opts
    if not opts.__file__.startswith(reference_checkout):
        sys.exit('imported %s, not the reference checkout' % opts.__file__)
    if what == 'policies':
        json.dump(policies(), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write('\n')
        return
    namespaces = (('glance.api', opts.list_api_opts),
                  ('glance.image_import', opts.list_image_import_opts))
    rows = []
    for namespace, list_opts in namespaces:
        for group, group_opts in list_opts():
            for opt in group_opts:
                row = {'namespace': namespace, 'group': group or 'DEFAULT'}
                row.update(describe(opt))
                rows.append(row)
    rows.sort(key=lambda r: (r['namespace'], r['group'], r['name']))
    json.dump(rows, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(*sys.argv[1:])
