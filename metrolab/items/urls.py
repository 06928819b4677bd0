from django.urls import path

from metrolab.items import views

app_name = "items"

# Fixed paths first: an item number never equals one of these words.
urlpatterns = [
    path("", views.item_list, name="list"),
    path("scan/", views.scan, name="scan"),
    path("storage/", views.storage, name="storage"),
    path("receive/", views.receive_index, name="receive"),
    path("receive/<int:pk>/", views.receive_commission, name="receive_commission"),
    path("labels/commission/<int:pk>/", views.commission_labels, name="commission_labels"),
    path("media/<int:pk>/", views.media_file, name="media_file"),
    path("<str:number>/", views.item_card, name="card"),
    path("<str:number>/label.pdf", views.item_label, name="label"),
    path("<str:number>/custody/", views.item_custody, name="custody"),
    path("<str:number>/tags/", views.item_tag_bind, name="tag_bind"),
    path("<str:number>/tags/<str:uid>/unbind/", views.item_tag_unbind, name="tag_unbind"),
    path("<str:number>/media/", views.item_media_upload, name="media_upload"),
]
