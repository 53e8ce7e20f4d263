import pbr.version

version_info = pbr.version.VersionInfo('glance')


def version_string():
    try:
        return version_info.version_string()
    except Exception:
        # Running from a tree that is not installed.
        return '0.0.0'
