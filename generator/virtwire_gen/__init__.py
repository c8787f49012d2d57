# SPDX-License-Identifier: LGPL-2.1-or-later
"""virtwire-gen: XDR (.x) files to typed C codecs for the virtwire runtime."""

__version__ = "0.1.0"
