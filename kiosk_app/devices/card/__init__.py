"""MyNumber card (券面事項入力補助AP only): protocol, session rules, simulator and readers.

Only the basic four items (name, address, birth date, sex) are read, with the visitor's consent
and PIN. The individual number's file (EF 0001), the card-face AP and the JPKI AP are never
selected; nothing here can log APDU data or a PIN.
"""
