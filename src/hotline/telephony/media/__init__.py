"""RTP media: G.711 codecs, the shared media clock, RFC 4733 digits."""
