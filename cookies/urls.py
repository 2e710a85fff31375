from django.urls import path

from cookies import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/", views.demo_page, name="demo"),
    path("demo/tags/<str:name>.js", views.demo_tag, name="demo-tag"),
    path("demo/embed/", views.demo_embed, name="demo-embed"),
    path("c/<str:site_key>.js", views.loader, name="banner-loader"),
    path("c/preview/<str:token>/", views.banner_preview_page, name="cookies_banner_preview_page"),
    path("c/preview/<str:token>/config", views.banner_preview_config, name="banner-preview-config"),
    path("api/public/v1/sites/<str:site_key>/config", api.banner_config_view, name="banner-config"),
]
