"""Release metadata agrees with itself: one version everywhere, the license files that the wheel
and sdist carry exist and say what pyproject.toml says, and the wheel matrix covers the supported
Python versions. (tests/check_wheel.py checks built wheels and sdists themselves.)"""
import glob
import os
import re

import pytest

import keras_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as f:
        return f.read()


@pytest.fixture(scope='module')
def pyproject():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip('tomli')
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        return tomllib.load(f)


def test_one_version_everywhere(pyproject):
    cmake = re.search(r'project\(keras_cpp VERSION (\S+)', _read('CMakeLists.txt')).group(1)
    assert pyproject['project']['version'] == keras_cpp.__version__ == cmake


def test_license_files_exist_and_match_the_metadata(pyproject):
    assert _read('LICENSE').startswith('MIT License')
    assert pyproject['project']['license'] == {'text': 'MIT'}
    patterns = pyproject['tool']['scikit-build']['wheel']['license-files']
    files = sorted(os.path.relpath(p, ROOT) for pat in patterns for p in glob.glob(os.path.join(ROOT, pat)))
    assert {'LICENSE', 'NOTICE', 'LICENSES/Eigen-MPL-2.0.txt', 'LICENSES/pybind11-BSD-3-Clause.txt'} <= set(files)
    notice = _read('NOTICE')
    for path in files:
        if path.startswith('LICENSES/'):
            assert path in notice, '%s is not explained in NOTICE' % path
    # The Eigen text shipped is the one vendored with the code that is compiled in.
    assert _read('LICENSES', 'Eigen-MPL-2.0.txt') == _read('third_party', 'eigen', 'COPYING.MPL2')


def test_wheel_matrix_covers_the_supported_pythons(pyproject):
    requires = pyproject['project']['requires-python']
    assert requires == '>=3.9'
    builds = pyproject['tool']['cibuildwheel']['build']
    assert builds == ['cp3%d-*' % m for m in range(9, 14)]
    classifiers = [c.rsplit(' ', 1)[1] for c in pyproject['project']['classifiers']
                   if re.match(r'Programming Language :: Python :: 3\.\d+$', c)]
    assert classifiers == ['3.%d' % m for m in range(9, 14)]
    cibw = pyproject['tool']['cibuildwheel']
    assert cibw['manylinux-x86_64-image'] == cibw['manylinux-aarch64-image'] == 'manylinux_2_28'
