"""What pyproject.toml cannot say: the site's templates/ and static/ folders live at the top
of the checkout and go into the wheel as config/templates and config/static, so that an
installed copy (`pip install .` outside the checkout) renders its pages and serves its static
files; config.settings looks there first."""

from setuptools import find_namespace_packages, find_packages, setup

SITE_FILES = {"config.templates": "templates", "config.static": "static"}


def folder_packages(package: str, folder: str) -> list[str]:
    """The folder and each folder below it, as packages of data files (setuptools asks for
    every subfolder to be named)."""
    return [package] + [f"{package}.{sub}" for sub in find_namespace_packages(where=folder)]


data_packages = [name for package, folder in SITE_FILES.items()
                 for name in folder_packages(package, folder)]

setup(
    packages=find_packages(include=["config*", "qc*", "batches*"]) + data_packages,
    package_dir=SITE_FILES,
    package_data={name: ["*"] for name in data_packages},
)
