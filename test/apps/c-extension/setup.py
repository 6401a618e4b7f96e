from setuptools import Extension, setup

setup(
    name="cgreet",
    version="1.0",
    ext_modules=[Extension("cgreet", ["cgreet.c"])],
    install_requires=["gunicorn"],
)
