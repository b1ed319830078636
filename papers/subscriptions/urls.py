from django.urls import path

import papers.inputs  # noqa: F401 - registers the <text:> converter
from papers.subscriptions import views

app_name = "subscriptions"
urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.subscribe_sent, name="subscribe_sent"),
    path("subscribe/token/", views.subscribe_token, name="subscribe_token"),
    path("subscriptions/confirm/<text:value>/", views.confirm, name="confirm"),
    path("subscriptions/<text:token>/", views.manage, name="manage"),
    path("unsubscribe/<text:token>/", views.unsubscribe, name="unsubscribe"),
]
