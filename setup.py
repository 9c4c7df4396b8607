"""m2pt_mm: Multimodal Pathway (M2PT) on the OpenMMLab stack.

Like OpenMMLab packages, the wheel ships ``configs/`` and ``tools/`` inside the package under
``m2pt_mm/.mim/`` (copied for wheels and sdists, symlinked for editable installs), so that
``m2pt_mm::`` config paths and ``mim`` find them.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'm2pt_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def requirements(name: str) -> list:
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


def add_mim_extension() -> None:
    """Put configs/ and tools/ under m2pt_mm/.mim (the OpenMMLab wheel layout)."""
    if any(cmd in sys.argv for cmd in ('develop', 'editable_wheel')):
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel')):
        mode = 'copy'
    else:
        return
    mim_root = osp.join(HERE, 'm2pt_mm', '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for name in ('configs', 'tools'):
        src, dst = osp.join(HERE, name), osp.join(mim_root, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_root), dst, target_is_directory=True)
        else:
            shutil.copytree(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='m2pt_mm',
        version=version(),
        description='Multimodal Pathway (M2PT): cross-modal re-parameterization on OpenMMLab',
        long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.9',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'demo')),
        include_package_data=True,
        package_data={'m2pt_mm': ['.mim/configs/**/*', '.mim/tools/**/*']},
        install_requires=requirements('runtime.txt'),
        extras_require={'tests': requirements('tests.txt'), 'mim': requirements('mminstall.txt')},
        zip_safe=False)
