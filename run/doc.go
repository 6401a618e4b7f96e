// Package run decides how the application starts (app.sh, app.py, gunicorn,
// mod_wsgi, Django) from the environment and the files in the image.
package run
