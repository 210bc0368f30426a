"""The hibah area's forms (WTForms through Flask-WTF, so every POST carries a CSRF token).

Identifiers are checked by `hibahbansos.identifiers` (python-stdnum behind it); a validator
replaces the field's data with the normalised value (NPWP as 16 digits, phone as +62...), and
its error message never repeats the number it rejects.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from hibahbansos import identifiers

try:  # WTForms 3.3 deprecates (value, label) tuples as choices; older versions lack SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

REQUIRED = _l("Wajib diisi.")


def options(pairs) -> list:
    """Choices for a SelectField from (value, label) pairs, in the form this WTForms expects."""
    return [SelectChoice(value, label) if SelectChoice else (value, label) for value, label in pairs]


# A plain shape check: whether the address works shows when mail arrives (no extra dependency).
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


def Email(message=None):
    return Regexp(EMAIL_RE, message=message)


def _req():
    return DataRequired(message=REQUIRED)


class _Identifier:
    """Validate and normalise an identifier with one of the parse_* functions."""

    def __init__(self, parse):
        self.parse = parse

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            value = self.parse(field.data)
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None
        field.data = value.number if isinstance(value, identifiers.Nik) else value


def _nik():
    return _Identifier(identifiers.parse_nik)


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Nama lengkap"), validators=[_req(), Length(max=120)])
    username = StringField(
        _l("Nama pengguna"),
        validators=[
            _req(),
            Length(min=3, max=40),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Gunakan huruf, angka, titik, garis bawah atau tanda hubung.")),
        ],
    )
    email = EmailField(
        _l("Email"), validators=[_req(), Email(message=_l("Alamat email tidak valid.")), Length(max=120)]
    )
    password = PasswordField(_l("Kata sandi"), validators=[_req(), Length(max=200)])
    confirm = PasswordField(
        _l("Ulangi kata sandi"), validators=[_req(), EqualTo("password", message=_l("Kata sandi tidak sama."))]
    )


class OrganisationForm(FlaskForm):
    name = StringField(_l("Nama lembaga"), validators=[_req(), Length(min=3, max=160)])
    kind = SelectField(_l("Jenis lembaga"), validators=[_req()])
    address = TextAreaField(_l("Alamat sekretariat"), validators=[_req(), Length(max=300)])
    district_code = SelectField(_l("Kecamatan"), validators=[_req()])
    legal_number = StringField(_l("Nomor akta pendirian"), validators=[_req(), Length(max=80)])
    legal_date = DateField(_l("Tanggal berbadan hukum"), validators=[InputRequired(message=REQUIRED)])
    kemenkumham_number = StringField(_l("Nomor SK Kemenkumham"), validators=[Optional(), Length(max=80)])
    npwp = StringField(_l("NPWP lembaga"), validators=[_req(), _Identifier(identifiers.parse_npwp)])
    domiciled = BooleanField(_l("Lembaga berdomisili di daerah ini"))
    has_secretariat = BooleanField(_l("Memiliki sekretariat tetap di daerah ini"))
    bank_code = StringField(
        _l("Kode bank (sandi BI, 3 digit)"),
        validators=[_req(), Regexp(r"^[0-9]{3}$", message=_l("Kode bank terdiri dari 3 digit."))],
    )
    bank_account = StringField(
        _l("Nomor rekening lembaga"),
        validators=[_req(), Regexp(r"^[0-9]{6,20}$", message=_l("Nomor rekening 6 sampai 20 digit angka."))],
    )
    bank_holder = StringField(_l("Nama pemilik rekening"), validators=[_req(), Length(max=160)])
    phone = StringField(_l("Telepon lembaga"), validators=[Optional(), _Identifier(identifiers.parse_phone)])
    email = EmailField(_l("Email lembaga"), validators=[Optional(), Email(message=_l("Alamat email tidak valid."))])
    chair_name = StringField(_l("Nama ketua"), validators=[_req(), Length(max=120)])
    chair_nik = StringField(_l("NIK ketua"), validators=[_req(), _nik()])
    secretary_name = StringField(_l("Nama sekretaris"), validators=[_req(), Length(max=120)])
    secretary_nik = StringField(_l("NIK sekretaris"), validators=[_req(), _nik()])
    treasurer_name = StringField(_l("Nama bendahara"), validators=[_req(), Length(max=120)])
    treasurer_nik = StringField(_l("NIK bendahara"), validators=[_req(), _nik()])


class ProposalForm(FlaskForm):
    organisation_id = SelectField(_l("Lembaga pengusul"), coerce=int, validators=[InputRequired(message=REQUIRED)])
    programme_code = SelectField(_l("Program hibah"), validators=[_req()])
    opd_code = SelectField(_l("OPD tujuan (penilai teknis)"), validators=[_req()])
    title = StringField(_l("Judul kegiatan"), validators=[_req(), Length(max=200)])
    purpose = TextAreaField(_l("Tujuan penggunaan hibah"), validators=[_req(), Length(max=4000)])


class RabLineForm(Form):
    description = StringField(_l("Uraian"), validators=[Optional(), Length(max=300)])
    quantity = IntegerField(_l("Volume"), validators=[Optional(), NumberRange(min=1, message=_l("Minimal 1."))])
    unit = StringField(_l("Satuan"), validators=[Optional(), Length(max=30)])
    unit_price = IntegerField(
        _l("Harga satuan (Rp)"), validators=[Optional(), NumberRange(min=1, message=_l("Minimal 1."))]
    )


class RabForm(FlaskForm):
    lines = FieldList(FormField(RabLineForm), min_entries=1, max_entries=60)


class UploadForm(FlaskForm):
    doc_code = SelectField(_l("Jenis dokumen"), validators=[_req()])
    file = FileField(_l("Berkas (PDF, JPEG atau PNG)"), validators=[FileRequired(message=_l("Pilih berkas."))])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Catatan"), validators=[Optional(), Length(max=2000)])


class RecommendForm(NoteForm):
    lines = FieldList(FormField(RabLineForm), min_entries=1, max_entries=60)


class AmountForm(NoteForm):
    amount = IntegerField(
        _l("Nilai (Rp)"), validators=[InputRequired(message=REQUIRED), NumberRange(min=1, message=_l("Minimal 1."))]
    )


class DecreeForm(NoteForm):
    decree_number = StringField(_l("Nomor keputusan Kepala Daerah"), validators=[_req(), Length(max=120)])
    decree_date = DateField(_l("Tanggal keputusan"), validators=[InputRequired(message=REQUIRED)])
    amount = IntegerField(
        _l("Nilai yang ditetapkan (Rp)"), validators=[InputRequired(message=REQUIRED), NumberRange(min=1)]
    )


class NphdForm(NoteForm):
    signed_date = DateField(_l("Tanggal penandatanganan NPHD"), validators=[InputRequired(message=REQUIRED)])
    file = FileField(_l("Pindaian NPHD bertanda tangan (PDF)"), validators=[FileRequired(message=_l("Pilih berkas."))])


class TrancheForm(NoteForm):
    sp2d_number = StringField(_l("Nomor SP2D"), validators=[_req(), Length(max=60)])
    sp2d_date = DateField(_l("Tanggal SP2D"), validators=[InputRequired(message=REQUIRED)])
    amount = IntegerField(_l("Nilai tahap ini (Rp)"), validators=[InputRequired(message=REQUIRED), NumberRange(min=1)])


class LpjForm(NoteForm):
    accounted_amount = IntegerField(
        _l("Jumlah yang dipertanggungjawabkan (Rp)"), validators=[InputRequired(message=REQUIRED), NumberRange(min=1)]
    )
    summary = TextAreaField(_l("Ringkasan penggunaan dana"), validators=[_req(), Length(max=4000)])
    file = FileField(
        _l("Berkas LPJ dengan bukti pengeluaran (PDF)"), validators=[FileRequired(message=_l("Pilih berkas."))]
    )


TRANSITION_FORMS = {
    "note": NoteForm,
    "confirm": NoteForm,
    "recommend": RecommendForm,
    "tapd": AmountForm,
    "decree": DecreeForm,
    "nphd": NphdForm,
    "tranche": TrancheForm,
    "lpj": LpjForm,
}


class RevealForm(FlaskForm):
    reason = StringField(_l("Alasan membuka data pribadi"), validators=[_req(), Length(min=5, max=200)])


class ComplaintForm(FlaskForm):
    name = StringField(_l("Nama (boleh dikosongkan)"), validators=[Optional(), Length(max=120)])
    contact = StringField(
        _l("Email atau telepon untuk jawaban (tidak dipublikasikan)"), validators=[Optional(), Length(max=120)]
    )
    about = StringField(
        _l("Nomor pelacakan proposal yang diadukan (jika ada)"), validators=[Optional(), Length(max=40)]
    )
    subject = StringField(_l("Pokok pengaduan"), validators=[_req(), Length(max=160)])
    message = TextAreaField(_l("Isi pengaduan"), validators=[_req(), Length(min=10, max=4000)])


class ComplaintResponseForm(FlaskForm):
    status = SelectField(_l("Status"))
    response = TextAreaField(_l("Jawaban untuk pengadu"), validators=[Optional(), Length(max=4000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Nama pengguna"), validators=[_req(), Length(min=3, max=40)])
    full_name = StringField(_l("Nama lengkap"), validators=[_req(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(message=_l("Alamat email tidak valid."))])
    password = PasswordField(_l("Kata sandi awal"), validators=[Optional(), Length(max=200)])
    roles = MultiCheckboxField(_l("Peran"))
    opd_code = SelectField(_l("OPD (untuk penilai OPD teknis)"), validators=[Optional()])
    is_active = BooleanField(_l("Akun aktif"), default=True)


class SettingsForm(FlaskForm):
    intake_open = BooleanField(_l("Penerimaan proposal dibuka"))
    announcement = TextAreaField(_l("Pengumuman di halaman publik"), validators=[Optional(), Length(max=2000)])
    regulations = TextAreaField(_l("Daftar regulasi (satu per baris)"), validators=[Optional(), Length(max=8000)])
