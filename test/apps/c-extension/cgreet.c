/* A C extension: building it needs gcc and Python.h (python3-dev). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *body(PyObject *self, PyObject *args)
{
    return PyBytes_FromString("c-extension");
}

static PyMethodDef methods[] = {
    {"body", body, METH_NOARGS, "The app's answer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cgreet", NULL, -1, methods};

PyMODINIT_FUNC PyInit_cgreet(void)
{
    return PyModule_Create(&module);
}
