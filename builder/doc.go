// Package builder creates the virtual environment under $APP_ROOT and installs
// the application's dependencies (pip, pipenv, lock files).
package builder
