"""Kiosk devices: code scanners (camera, keyboard wedge, serial, image folder), the decoder,
the slip printer and the voice guide. Device loops run in their own threads, never Qt's."""
