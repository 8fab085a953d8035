"""Ticket slips (整理券): what a slip says -> how it prints (ESC/POS bytes) -> where it goes.

Layers, each importing only the ones before it:
    texts, errors -> slip (pure model) -> status -> fonts, render (Pillow, python-escpos)
    -> urls, transports (tcp/usb/serial/file/virtual) -> escpos_decode, fake -> cli

Entry points for the kiosk and the server:
    printer.slip.slip_from_ticket(ticket, office_name, category_names, language, waiting_area)
    printer.layout.make_profile(width, mode, name)
    printer.render.render_bytes(slip, profile) / render_png(...)
    printer.transports.open_printer(url, profile, timeout_s=...) -> Printer
        .print_slip(slip) -> PrintResult      .status() -> PrinterStatus

This module imports nothing so that `madoguchi` starts without Pillow on server-only hosts.
"""
