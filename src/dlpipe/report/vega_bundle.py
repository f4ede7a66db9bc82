"""The JavaScript the offline page inlines (vega, vega-lite, vega-embed from vl-convert-python) and its licence."""

from __future__ import annotations

from importlib.metadata import version
from string import Template

import vl_convert

from dlpipe.core.errors import UserError

# BSD-3-Clause asks that redistributed binaries carry the notice; the page is what gets passed around.
NOTICE = Template("""\
JavaScript inlined below: the bundle of vl-convert-python $vl_convert (BSD-3-Clause, Copyright 2023
Jon Mease), made of vega $vega (BSD-3-Clause, Copyright (c) 2013, Trifacta Inc.; University of
Washington Interactive Data Lab), vega-lite $vega_lite (BSD-3-Clause, Copyright (c) 2015, University
of Washington Interactive Data Lab), vega-embed $vega_embed (BSD-3-Clause, University of Washington
Interactive Data Lab) and their dependencies (d3 modules and others, under ISC, MIT or BSD licences;
list in LICENSES/vega.md of the dlpipe repository). The BSD-3-Clause terms:

Redistribution and use in source and binary forms, with or without modification, are permitted provided
that the following conditions are met: 1. Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer. 2. Redistributions in binary form must
reproduce the above copyright notice, this list of conditions and the following disclaimer in the
documentation and/or other materials provided with the distribution. 3. Neither the name of the copyright
holder nor the names of its contributors may be used to endorse or promote products derived from this
software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED
WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR
ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED
TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.""")


def vega_lite_version() -> str:
    """The newest Vega-Lite that vl-convert bundles (``major.minor``): the one the page loads."""
    return vl_convert.get_vegalite_versions()[-1]


def licence_notice() -> str:
    """Who wrote the inlined JavaScript, its versions and licence terms (for a comment in the page)."""
    return NOTICE.substitute(
        vl_convert=version("vl-convert-python"),
        vega=vl_convert.get_vega_version(),
        vega_lite=vega_lite_version(),
        vega_embed=vl_convert.get_vega_embed_version(),
    )


def javascript_bundle() -> str:
    """vega, vega-lite and vega-embed as one script that defines ``vegaEmbed`` (≈ 900 KB, ≈ 2 s)."""
    bundle = vl_convert.javascript_bundle(vl_version=vega_lite_version())
    # Inside <script>, "</script" would end the element early and "<!--" changes how it is parsed.
    if "</script" in bundle.lower() or "<!--" in bundle:
        raise UserError("vl-convert's JavaScript bundle cannot be inlined in a <script> element")
    return bundle
