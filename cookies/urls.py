from django.urls import path

from cookies import views

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/", views.demo_page, name="demo"),
]
