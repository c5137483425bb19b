"""Request and response bodies of the sync API (docs/SYNC_API.md), with their size limits.

The schema checks shapes and sizes only. The record rules (NIK, regions, ages) are not here:
a record that breaks them is answered `rejected` with field errors, one record at a time, so that
one bad record never refuses a whole batch.

The bodies live in three modules by concern; this module names them all, so that the routes,
the command line and the tests import every body from one place:
- server/schema_base.py: base models, shared field types and limits, the error shape, the operator;
- server/schema_sync.py: health, keys, devices, transfer, push and pull;
- server/schema_desk.py: the verifier's and the card desk's decisions, details, lists and quotas.
"""

from server.schema_base import (  # noqa: F401
    ERROR_RESPONSES,
    ISO_DATE,
    MAX_RECORDS_PER_BATCH,
    NOT_BLANK,
    ROLES,
    ErrorBody,
    ErrorInfo,
    FilledText,
    Id,
    Lenient,
    Operator,
    OperatorField,
    OperatorInfo,
    Revision,
    Role,
    Short,
    Strict,
    Text,
)
from server.schema_desk import (  # noqa: F401
    ApproveCorrectionRequest,
    CardHandedOverRequest,
    CardInfo,
    CardPrintedRequest,
    CardVersion,
    CohortQuota,
    ConflictVersion,
    Detail,
    DetailResponse,
    EventInfo,
    EventOperator,
    FundRequest,
    Kegiatan,
    KegiatanList,
    PendingCorrection,
    PendingVersion,
    QuotaResponse,
    QuotaSetting,
    Reason,
    Reasons,
    RegistrationList,
    RejectCode,
    RejectCorrectionRequest,
    RejectRequest,
    ReprintCode,
    ReprintRequest,
    ResolveConflictRequest,
    ResolveDuplicateRequest,
    Summary,
    VerifyRequest,
)
from server.schema_sync import (  # noqa: F401
    DeviceInfo,
    EnrolRequest,
    EnrolResponse,
    FieldIssue,
    Health,
    HeirData,
    KegiatanData,
    Keys,
    Outcome,
    PublicKey,
    PullChange,
    PullResponse,
    PushRecord,
    PushRequest,
    PushResponse,
    PushResult,
    RegistrationData,
    TransferRequest,
    TransferResponse,
)
