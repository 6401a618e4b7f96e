from setuptools import setup

# run starts `gunicorn setuppyapp`: the module named by name=.
setup(name="setuppyapp", version="1.0", py_modules=["setuppyapp"], install_requires=["gunicorn"])
