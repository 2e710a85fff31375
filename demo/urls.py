"""The demo shop's pages; config/urls.py includes them only when DEBUG or DEMO is on."""

from django.urls import path

from demo import views

urlpatterns = [
    path("demo/", views.demo_page, name="demo"),
    path("demo/tags/<str:name>.js", views.demo_tag, name="demo-tag"),
    path("demo/embed/", views.demo_embed, name="demo-embed"),
]
