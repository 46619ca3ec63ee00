"""The TCP cluster driver: real servers and clients over authenticated TCP, played by hand.

The third thin driver over the same core, host loop and storage as the lab and the
simulator: each server is its own process with a console, each client a REPL, and a
session ends with the same checks as a lab run (`paxlab cluster check`).
"""
