"""List and dict options read every form an operator writes.

The forms come from configuration files, where oslo.config's parser
strips a value's outer quotes before the option's type sees it; so each
value is written to a real file and read back.
"""

from oslo_config import cfg
from oslo_config import types
import pytest

from glance.common import config_types


def read(tmp_path, opt, value):
    conf = cfg.ConfigOpts()
    conf.register_opt(opt)
    path = tmp_path / 'x.conf'
    path.write_text('[DEFAULT]\n%s = %s\n' % (opt.name, value))
    conf([], default_config_files=[str(path)])
    return getattr(conf, opt.name)


@pytest.mark.parametrize('value', [
    '[a, b]', "['a', 'b']", '["a", "b"]', 'a, b', 'a,b', "'a', 'b'",
    '"a", "b"', '[ a , b ]', 'a, b,', "['a', \"b\"]",
])
def test_list_forms(tmp_path, value):
    opt = config_types.ListOpt('x', default=['default'])
    assert read(tmp_path, opt, value) == ['a', 'b']


@pytest.mark.parametrize('value', ['[]', '', ' [ ] '])
def test_empty_list_forms(tmp_path, value):
    opt = config_types.ListOpt('x', default=['default'])
    assert read(tmp_path, opt, value) == []


@pytest.mark.parametrize('value', ["'a'", '[a]', 'a', '["a"]'])
def test_one_item(tmp_path, value):
    opt = config_types.ListOpt('x', default=[])
    assert read(tmp_path, opt, value) == ['a']


def test_items_keep_inner_characters(tmp_path):
    # The reference's extra_properties default: prefixes ending in ':'.
    opt = config_types.ListOpt('x', default=[])
    assert read(tmp_path, opt, "['hw_', 'trait:', os_distro]") == [
        'hw_', 'trait:', 'os_distro']


@pytest.mark.parametrize('value', ['[80, 8080]', '80, 8080', "['80', 8080]"])
def test_typed_items(tmp_path, value):
    opt = config_types.ListOpt(
        'ports', item_type=types.Integer(min=1, max=65535), default=[])
    assert read(tmp_path, opt, value) == [80, 8080]


def test_typed_items_still_validated(tmp_path):
    opt = config_types.ListOpt(
        'ports', item_type=types.Integer(min=1, max=65535), default=[])
    with pytest.raises(cfg.ConfigFileValueError):
        read(tmp_path, opt, '[80, 70000]')


def test_choices_still_checked(tmp_path):
    opt = config_types.ListOpt(
        'methods', item_type=types.String(quotes=True,
                                          choices=['glance-direct']),
        default=[])
    assert read(tmp_path, opt, "['glance-direct']") == ['glance-direct']
    with pytest.raises(cfg.ConfigFileValueError):
        read(tmp_path, opt, '[glance-direct, teleport]')


def test_default_is_kept_when_unset():
    conf = cfg.ConfigOpts()
    conf.register_opt(config_types.ListOpt('x', default=['d']))
    conf([], default_config_files=[])
    assert conf.x == ['d']


@pytest.mark.parametrize('value', [
    'fast:file, cheap:rbd', '{fast: file, cheap: rbd}',
    "{'fast': 'file', 'cheap': 'rbd'}", '"fast": "file", "cheap": "rbd"',
    "'fast':'file','cheap':'rbd'",
])
def test_dict_forms(tmp_path, value):
    opt = config_types.DictOpt('x', default={})
    assert read(tmp_path, opt, value) == {'fast': 'file', 'cheap': 'rbd'}


@pytest.mark.parametrize('value', ['{}', ''])
def test_empty_dict_forms(tmp_path, value):
    opt = config_types.DictOpt('x', default={'a': 'b'})
    assert read(tmp_path, opt, value) == {}


def test_dict_values_may_hold_colons(tmp_path):
    opt = config_types.DictOpt('x', default={})
    assert read(tmp_path, opt, "{url: 'http://h:80/'}") == {
        'url': 'http://h:80/'}


def test_sample_generator_sees_list_and_dict_options():
    # oslo-config-generator and the sphinx extension look at the class.
    assert isinstance(config_types.ListOpt('x'), cfg.ListOpt)
    assert isinstance(config_types.DictOpt('x'), cfg.DictOpt)


def test_a_bad_value_is_found_at_start(tmp_path):
    from glance.common import config
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    path = tmp_path / 'glance-api.conf'
    path.write_text('[import_filtering_opts]\nallowed_ports = [80, x]\n')
    conf([], default_config_files=[str(path)])
    with pytest.raises(RuntimeError) as raised:
        config.check_values(conf)
    assert 'allowed_ports' in str(raised.value)


def test_good_values_pass_the_start_check(tmp_path):
    from glance.common import config
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    path = tmp_path / 'glance-api.conf'
    path.write_text("[import_filtering_opts]\nallowed_ports = ['80', 443]\n")
    conf([], default_config_files=[str(path)])
    config.check_values(conf)
    assert conf.import_filtering_opts.allowed_ports == [80, 443]
