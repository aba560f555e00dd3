"""Networking: frames (fragmentation, headers, CRC, packet error rates) and shared media."""
