from django.urls import path

from dangjian.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("todos/", views.todo_list, name="todos"),
]
