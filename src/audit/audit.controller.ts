import {
  Body,
  Controller,
  Get,
  Param,
  Header,
  Headers,
  HttpCode,
  Post,
  Query,
  Res,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AccessTokenGuard } from '../auth/access-token.guard.js';
import { CurrentActor, type Actor } from '../kernel/actor.js';
import {
  AnomaliesQueryDto,
  AuditEventPageDto,
  AuditEventsQueryDto,
  AuditExportQueryDto,
  AuditTimelineDto,
  AuditTimelineQueryDto,
  EmergencyReviewParamsDto,
  EmergencyReviewQueryDto,
  EmergencyReviewRequestDto,
  SubjectReportRequestDto,
} from './audit.dto.js';
import { AuditService, type AnomalyReport, type EventPage, type Timeline } from './audit.service.js';
import type { Review, ReviewQueueItem } from './emergency-review.repository.js';
import { OfficerGuard } from './officer.guard.js';
import { renderSubjectReportHtml, type SubjectReport } from './subject-report.js';

/** text/html when the client prefers it to JSON (by q, then order); JSON otherwise. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { type: string; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    if (type !== 'text/html' && type !== 'application/json') continue;
    const q = Number(
      params
        .map((p) => p.trim())
        .find((p) => p.startsWith('q='))
        ?.slice(2) ?? '1',
    );
    if (!best || q > best.q) best = { type, q: Number.isNaN(q) ? 0 : q };
  }
  return best?.type === 'text/html' && best.q > 0;
}

const OFFICERS =
  'Privacy officers only: a token of a partner of kind toezicht for purpose toezicht; anyone else gets ' +
  '403 not-an-officer, logged. Every query is logged as an audit entry before the answer (503 if it cannot be).';

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard, OfficerGuard)
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('events')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Access log entries matching the filters, newest first',
    description: `Keyset-paginated (pass nextCursor as cursor); from is inclusive, to exclusive. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: AuditEventPageDto })
  events(@CurrentActor() officer: Actor, @Query() query: AuditEventsQueryDto): Promise<EventPage> {
    return this.audit.events(officer, query);
  }

  @Get('timeline')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Accesses per day or hour and per partner, allowed and denied, for the same filters as events',
    description:
      'Counts only, grouped in the database over the whole filter (not a page): buckets are local days or ' +
      'hours in Europe/Amsterdam, non-empty ones oldest first; from is inclusive, to exclusive. A range of more ' +
      `than 400 buckets is a 400 timeline-too-long. ${OFFICERS}`,
  })
  @ApiOkResponse({ type: AuditTimelineDto })
  timeline(@CurrentActor() officer: Actor, @Query() query: AuditTimelineQueryDto): Promise<Timeline> {
    return this.audit.timeline(officer, query);
  }

  @Post('subject-report')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "AVG art. 15: who accessed one person's data, when, for what purpose, on which basis",
    description:
      'The subject reference travels in the body, never in a URL. Partners by name, purposes by name, ' +
      'legal bases as cited in the convenant, categories of data (section and sensitivity); allowed and ' +
      'denied. Professionals only with includeProfessionals: true. Accept: text/html gives a printable ' +
      `Dutch page. ${OFFICERS}`,
  })
  @ApiProduces('application/json', 'text/html')
  async subjectReport(
    @CurrentActor() officer: Actor,
    @Body() body: SubjectReportRequestDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubjectReport | string> {
    const report = await this.audit.subjectReport(officer, body);
    if (!prefersHtml(accept)) return report;
    void reply.header('content-type', 'text/html; charset=utf-8');
    return renderSubjectReportHtml(report);
  }

  @Get('export')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Export the access log in [from, to) as NDJSON, CSV or LDV records, streamed, oldest first',
    description:
      'NDJSON is verifiable offline (`convenant audit verify --file x --key jwks.json`, JWKS from GET /v1/audit/keys): ' +
      'a first line {"type":"export",…}, then one {"type":"entry",…} line per entry in the events shape plus its ' +
      '`seal` (chain position and hashes), in chain order, then the signed {"type":"checkpoint",…} lines covering ' +
      'them. Everything logged before the export is sealed and checkpointed first. Without caseId the file is a ' +
      'whole chain segment (it may run a few entries past the range, to the covering checkpoint). CSV: for ' +
      'reading, RFC 4180 with a header line, lists joined with ";", no seals. LDV: one Logius Logboek ' +
      'Dataverwerkingen record per entry and line (trace_id, span_id, status, name, start_time, end_time, ' +
      'parent_span_id for an entry about a person (its request has a record of its own), resource, attributes with ' +
      'dpl.core.processing_activity_id and, for an entry about a person, ' +
      'dpl.core.data_subject_id and its _type), oldest first; see docs/ldv.md. Streamed in batches, so any size ' +
      `is fine. ${OFFICERS}`,
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  async export(@CurrentActor() officer: Actor, @Query() query: AuditExportQueryDto): Promise<StreamableFile> {
    const stream = await this.audit.export(officer, query);
    return new StreamableFile(stream, {
      type: query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="access-log.${query.format === 'ldv' ? 'ldv.ndjson' : query.format}"`,
    });
  }

  @Get('anomalies')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Explainable signals in a window, each with the numbers behind it',
    description:
      'case-volume (more than 3x the median of distinct cases of peers at the same partner, at least 10), ' +
      'repeated-denials (5 or more within 24 hours), access-after-participation-ended, ' +
      `emergency-unreviewed, unusual-hours (22:00-06:00 Europe/Amsterdam). ${OFFICERS}`,
  })
  anomalies(@CurrentActor() officer: Actor, @Query() query: AnomaliesQueryDto): Promise<AnomalyReport> {
    return this.audit.anomalies(officer, query);
  }

  @Get('emergency-reviews')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Emergency accesses (doorbraak) awaiting review, or reviewed, oldest first',
    description: `status=pending (default) or reviewed; at most 200. ${OFFICERS}`,
  })
  emergencyReviews(
    @CurrentActor() officer: Actor,
    @Query() query: EmergencyReviewQueryDto,
  ): Promise<{ items: ReviewQueueItem[] }> {
    return this.audit.emergencyReviews(officer, query.status ?? 'pending');
  }

  @Post('emergency-reviews/:seq')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Judge an emergency access: lawful, unlawful or unclear, with a comment',
    description:
      '404 when seq is not an allowed emergency access; 409 when it was already reviewed (the first ' +
      `judgement stands). The review is logged as an audit entry. ${OFFICERS}`,
  })
  review(
    @CurrentActor() officer: Actor,
    @Param() params: EmergencyReviewParamsDto,
    @Body() body: EmergencyReviewRequestDto,
  ): Promise<Review> {
    return this.audit.review(officer, params.seq, body);
  }
}
