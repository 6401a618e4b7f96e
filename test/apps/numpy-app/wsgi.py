import numpy


def application(environ, start_response):
    inv = numpy.linalg.inv(numpy.array([[2.0, 0.0], [0.0, 4.0]]))
    body = ("numpy-app %s" % inv.diagonal().tolist()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
