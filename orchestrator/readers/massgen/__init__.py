"""massgen"""
