from django.db import models


class Reading(models.Model):
    value = models.FloatField()
