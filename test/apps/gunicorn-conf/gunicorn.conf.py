wsgi_app = "hello_site:application"
bind = "0.0.0.0:8085"
workers = 1
