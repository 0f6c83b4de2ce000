"""event_stream"""
