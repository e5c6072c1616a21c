"""Package discovery for the three source folders that install under ``archgym``.

``envs/`` installs as ``archgym.envs``, ``agents/`` as ``archgym.agents`` and
``conf/`` (the Hydra configs) as ``archgym.conf``; everything else is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

ROOTS = {"archgym": "archgym", "archgym.envs": "envs", "archgym.agents": "agents", "archgym.conf": "conf"}

packages = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages += [
        f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=["__pycache__*", "*.__pycache__*"])
    ]

setup(packages=packages)
