from django.urls import path

from readings.views import index

urlpatterns = [path("", index)]
